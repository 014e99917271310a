/**
 * English catalogue, common section: sentences shared by every package (error taxonomy fallbacks, input refusals).
 * Ids are stable; parameters are written `{{name}}` (i18next interpolation).
 */
export const common = {
  "error.validation": "The input breaks {{count}} rule(s): {{rules}}.",
  "error.internal": "Something went wrong inside ksef-certs. The details are in the log.",
  "error.legacy": "{{text}}",
  "input.characters": "{{field}} contains a NUL character or an unpaired surrogate.",
  "input.encoding": "The request body is not valid UTF-8.",
} as const;
