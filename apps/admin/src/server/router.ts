/**
 * The admin API (the router contract). The web app imports
 * `import type { AppRouter } from "../../src/server/router"`.
 *
 * Changes from the contract draft: `certificates.get` also returns `certificatePem`, `enrollmentId` and the
 * scope names; `certificates.timeline` returns `{ rows, truncated }`; `audit.list` also takes `companyId`;
 * `enrollments.watch` events carry `enrollmentId` and `final`; `auth.ping` keeps a session alive.
 */
import { auditRouter } from "./routers/audit.js";
import { authRouter } from "./routers/auth.js";
import { adaptersRouter, certificatesRouter } from "./routers/certificates.js";
import { enrollmentsRouter } from "./routers/enrollments.js";
import { orgRouter } from "./routers/org.js";
import { renewalsRouter } from "./routers/renewals.js";
import { usersRouter } from "./routers/users.js";
import { workstationsRouter } from "./routers/workstations.js";
import { router } from "./trpc.js";

/** Every procedure of the admin API. */
export const appRouter = router({
  auth: authRouter,
  users: usersRouter,
  org: orgRouter,
  certificates: certificatesRouter,
  adapters: adaptersRouter,
  enrollments: enrollmentsRouter,
  audit: auditRouter,
  workstations: workstationsRouter,
  renewals: renewalsRouter,
});

/** The API's type, for the web app's tRPC client. */
export type AppRouter = typeof appRouter;
