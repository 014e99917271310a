/** `@ksef-certs/core/registry` (being built for the registry issue). */
export {};
