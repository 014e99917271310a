/** The Polish catalogue: every section composed into one object (ids are unique across sections: a test checks). */
import { adapters } from "./adapters.js";
import { agent } from "./agent.js";
import { cli } from "./cli.js";
import { common } from "./common.js";
import { access } from "./access.js";
import { domain } from "./domain.js";
import { enrollment } from "./enrollment.js";
import { ksef } from "./ksef.js";
import { rules } from "./rules.js";
import { server } from "./server.js";
import { renewal } from "./renewal.js";
import { web } from "./web.js";

/** Sections by name, for the test that ids do not repeat across sections. */
export const PL_SECTIONS = { common, rules, ksef, adapters, domain, enrollment, access, server, cli, web, agent, renewal } as const;

/** The Polish catalogue. */
export const pl = { ...common, ...rules, ...ksef, ...adapters, ...domain, ...enrollment, ...access, ...server, ...cli, ...web, ...agent, ...renewal } as const;
