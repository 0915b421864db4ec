// One CSV field, quoted only when it must be (RFC 4180), for the CSV files reports write.
export const csvField = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
