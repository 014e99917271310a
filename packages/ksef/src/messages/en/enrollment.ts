/** English catalogue, section for enrollment runs, their steps and the vault (sealing, unsealing, opening held keys). Parameters are written `{{name}}`. */
export const enrollment = {} as const;
