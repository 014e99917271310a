/**
 * The admin API (router contract, /work/briefs/router-contract.md). The web app imports
 * `import type { AppRouter } from "../../src/server/router"`.
 */
import { authRouter } from "./routers/auth.js";
import { certificatesRouter } from "./routers/certificates.js";
import { orgRouter } from "./routers/org.js";
import { router } from "./trpc.js";

/** Every procedure of the admin API. */
export const appRouter = router({
  auth: authRouter,
  org: orgRouter,
  certificates: certificatesRouter,
});

/** The API's type, for the web app's tRPC client. */
export type AppRouter = typeof appRouter;
