/** English catalogue, section for the admin server (HTTP, tRPC, the agent API). Parameters are written `{{name}}`. */
export const server = {} as const;
