/** English catalogue, section for the signer agent (`ksef-signer`) on operators' workstations. Parameters are written `{{name}}`. */
export const agent = {} as const;
