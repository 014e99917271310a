/** English catalogue, section for access rules, reports and the use cases behind the admin server's procedures. Parameters are written `{{name}}`. */
export const access = {} as const;
