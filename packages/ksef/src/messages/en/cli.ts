/** English catalogue, section for the `ksef-certs` command line. Parameters are written `{{name}}`. */
export const cli = {} as const;
