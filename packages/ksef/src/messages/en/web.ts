/** English catalogue, section for the admin web app's screens. Parameters are written `{{name}}`. */
export const web = {} as const;
