export const TOCSIN_VERSION = '0.1.0';
export const USER_AGENT = `Tocsin/${TOCSIN_VERSION}`;
