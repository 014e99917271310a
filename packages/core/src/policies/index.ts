/**
 * `@ksef-certs/core/policies`: input rules that return every violation at once (for forms), with
 * stable rule ids and Polish wording.
 */
export * from "./certificate-name.js";
export * from "./identifiers.js";
export * from "./messages-pl.js";
export * from "./password.js";
