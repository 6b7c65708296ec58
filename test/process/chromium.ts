/** Debian's chromium, which .ci/run installs; browser tests skip with a message without it. */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless, as root in a container, and quiet: no network of its own beyond what a test asks. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
