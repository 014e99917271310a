#!/usr/bin/env node
/** The `ksef-simulator` command (being built for issue 3). */
export {};
