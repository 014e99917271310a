/** English catalogue, section for the domain: store, registry, enrollment, signing requests, access, adapter use cases. Parameters are written `{{name}}`. */
export const domain = {} as const;
