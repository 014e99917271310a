/**
 * The export destinations as a principal may see them: names for everyone who may export to them, the folder
 * (relative to the export root) only for super-admins, who alone add and remove destinations.
 */
import { listExportDestinations } from "../adapters/transfer.js";
import type { Db } from "../store/db.js";
import { hasRole, type Principal } from "./rules.js";

/** One destination of {@link listExportDestinationsAs}; `path` only for a super-admin. */
export interface ExportDestinationView {
  readonly id: string;
  readonly name: string;
  /** Limited to this company's certificates; null: any the exporter may write. */
  readonly companyId: string | null;
  /** The folder relative to the export root; absent unless the principal is a super-admin. */
  readonly path?: string;
}

/**
 * The destinations `principal` may export to (adapters `listExportDestinations`), by name, with their folders shown
 * to super-admins only: a folder says where on the server files land, which is the super-admin's business.
 * @param db the database
 * @param principal who asks
 * @returns the destinations
 */
export async function listExportDestinationsAs(db: Db, principal: Principal): Promise<ExportDestinationView[]> {
  const superAdmin = hasRole(principal, "super_admin");
  return (await listExportDestinations(db, principal)).map((d) => ({
    id: d.id,
    name: d.name,
    companyId: d.companyId,
    ...(superAdmin ? { path: d.path } : {}),
  }));
}
