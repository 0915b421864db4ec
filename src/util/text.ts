// Escaping for the text files and pages reports write.

/** One CSV field, quoted only when it must be (RFC 4180). */
export const csvField = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** Text safe inside HTML elements and double-quoted attributes. */
export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * The folder a class's images go to in a generated ImageFolder: the class name, with path separators
 * replaced (Fashion-MNIST's "T-shirt/top" would otherwise nest, and read back as a class "T-shirt").
 */
export const classFolder = (name: string): string => name.replace(/[\\/]/g, '_');

/** A class name reduced to word characters, `.` and `-`: folder names made by `generate` and `ssim select` compare equal to their class under it. */
export const classKey = (name: string): string => name.replace(/[^\w.-]+/g, '_');
