/**
 * The `scope` input shared by import, assign and enrollment (`{ companyId, branchId?, operatorId? }`):
 * converted to a registry `Scope` after checking the caller may act there.
 */
import { z } from "zod";
import type { AccessScope, Principal } from "@ksef-certs/domain/access";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import type { Scope } from "@ksef-certs/domain/registry";
import type { Db } from "@ksef-certs/domain/store";
import { requireEntity } from "./trpc.js";

/** zod schema of a scope on the wire. */
export const scopeInput = z.object({ companyId: z.string().max(64), branchId: z.string().max(64).optional(), operatorId: z.string().max(64).optional() });

/** A scope on the wire. */
export type ScopeInput = z.infer<typeof scopeInput>;

/**
 * The registry scope of a wire scope (operator, else branch, else company), after checking the caller may
 * read or write it; the branch or operator must belong to `companyId`.
 * @param ctx database and principal
 * @param s the wire scope
 * @param access `read` or `write`
 * @returns the registry scope and its access scope
 * @throws {KsefCertsError} NOT_FOUND for what the caller may not see; FORBIDDEN when it may see but not change it;
 *   VALIDATION when the branch or operator belongs to another company
 */
export async function authorizeScopeInput(
  ctx: { db: Db; principal: Principal },
  s: ScopeInput,
  access: "read" | "write",
): Promise<{ scope: Scope; access: AccessScope }> {
  const [kind, id, scope]: ["operator" | "branch" | "company", string, Scope] =
    s.operatorId !== undefined
      ? ["operator", s.operatorId, { type: "operator", operatorId: s.operatorId }]
      : s.branchId !== undefined
        ? ["branch", s.branchId, { type: "branch", branchId: s.branchId }]
        : ["company", s.companyId, { type: "company", companyId: s.companyId }];
  const a = await requireEntity(ctx, kind, id, access);
  if (a.kind === "global" || a.companyId !== s.companyId) {
    throw new KsefCertsError("VALIDATION", msg("server.scope.otherCompany", { kind }), {
      violations: [{ field: `scope.${kind}Id`, rule: "scope.sameCompany", message: `The ${kind} must belong to the chosen company.` }],
    });
  }
  return { scope, access: a };
}

/**
 * Decodes a base64 upload with a size limit.
 * @param field form field name (for the violation)
 * @param text base64 text
 * @param maxBytes largest decoded size
 * @throws {KsefCertsError} TOO_LARGE over the limit; VALIDATION for text that is not base64 or empty
 */
export function decodeUpload(field: string, text: string, maxBytes: number): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (clean.length === 0 || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean)) {
    throw new KsefCertsError("VALIDATION", msg("server.upload.notBase64", { field }), {
      violations: [{ field, rule: `${field}.base64`, message: "The file could not be read from the upload." }],
    });
  }
  const bytes = new Uint8Array(Buffer.from(clean, "base64"));
  if (bytes.byteLength > maxBytes) {
    throw new KsefCertsError("TOO_LARGE", msg("server.upload.tooLarge", { field, bytes: bytes.byteLength, max: maxBytes }), {
      violations: [{ field, rule: `${field}.size`, message: `The file may have at most ${maxBytes} bytes.`, params: { max: maxBytes } }],
    });
  }
  return bytes;
}
