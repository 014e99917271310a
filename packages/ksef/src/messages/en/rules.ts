/** English catalogue, section for rule violations (a Violation's rule id `x.y` is the message id `rule.x.y`). Parameters are written `{{name}}`. */
export const rules = {} as const;
