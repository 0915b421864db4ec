// How synthset starts Debian's Chromium headless for its page tests and screenshots: no sandbox
// (containers), no GPU, and nothing that would call out to the network.
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
