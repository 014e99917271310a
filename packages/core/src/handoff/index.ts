/** `@ksef-certs/core/handoff` (being built for the registry issue). */
export {};
