/** `@ksef-certs/core/qr` (being built for issue 3). */
export {};
