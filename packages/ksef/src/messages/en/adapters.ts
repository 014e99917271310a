/** English catalogue, section for the ERP adapters and the KSeF simulator. Parameters are written `{{name}}`. */
export const adapters = {} as const;
