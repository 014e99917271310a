import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptPrivateKeyPem, generateKeyPair } from "@ksef-certs/ksef/crypto";
import { recordCertificate } from "@ksef-certs/domain/registry";
import type { Store } from "@ksef-certs/domain/store";
import { vaultFromMasterKey } from "@ksef-certs/domain/vault";
import { schema } from "@ksef-certs/testing/database";
import { issueKsefLikeCertificate } from "@ksef-certs/testing/certificates";
import { buildWorld, callerFor, DB_KINDS, openTestStore, T0, trpcCode } from "../__fixtures__/world.js";
import { ksefErrorData } from "../errors.js";
import type { ServerServices } from "../services.js";

const DAY = 86_400_000;
// A fixed clock (the fixtures' T0), never today's date: what is due depends on it.
const services: ServerServices = { clock: () => T0, vault: vaultFromMasterKey(new Uint8Array(32).fill(7)) };
const META = { actor: "test", at: T0 };

/** The violations a refused call carries (what the web app places by field and rule). */
async function violationsOf(call: Promise<unknown>): Promise<{ code: string; rules: string[] }> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    return { code: err.code, rules: (ksefErrorData(err.cause)?.violations ?? []).map((v) => `${v.field}:${v.rule}`) };
  }
  return { code: "OK", rules: [] };
}

for (const kind of DB_KINDS) {
  describe(`renewals router [${kind}]`, () => {
    let store: Store;
    let w: Awaited<ReturnType<typeof buildWorld>>;
    const ids = { expiring: "", renewalB1: "", renewalB2: "" };
    const as = async (who: keyof Awaited<ReturnType<typeof buildWorld>>["sessions"], s: ServerServices = services) =>
      (await callerFor(store.db, s, w.sessions[who])).caller.renewals;

    beforeAll(async () => {
      store = await openTestStore(kind);
      w = await buildWorld(store.db);
      // A branch-1 certificate expiring in 59 days whose key password is sealed: it can sign its own renewal. Demo, so
      // its slot holds only itself (the fixtures' test certificates would fill a slot of two).
      const keys = await generateKeyPair("EC-P256");
      const issued = await issueKsefLikeCertificate({
        certificateType: "Authentication",
        keys,
        enrollmentData: { commonName: "Jan Kowalski", countryName: "PL", givenName: "Jan", surname: "Kowalski", serialNumber: "PNOPL-44051401359" },
        validFrom: new Date(T0.getTime() - 306 * DAY),
        validityDays: 365,
      });
      const row = await recordCertificate(
        store.db,
        {
          scope: { type: "branch", branchId: w.b1.id },
          environment: "demo",
          mode: "current",
          name: "Wygasa wkrótce",
          certificateDer: issued.der,
          keyFile: new TextEncoder().encode(await encryptPrivateKeyPem(keys.privateKey, "Haslo-klucza-123!", { iterations: 1000 })),
          // The plan only asks whether a sealed password exists; these bytes are never opened here.
          sealedPassword: new Uint8Array([1, 2, 3, 4]),
          source: "imported",
        },
        META,
      );
      ids.expiring = row.id;
      // Renewals waiting for an admin in each branch (as the scheduler leaves them under the `ask` password policy).
      const waiting = (certificateId: string) => ({
        certificateId,
        companyId: w.company.id,
        state: "awaiting_approval" as const,
        dueAt: T0,
        nextAttemptAt: T0,
        reasonId: "renewal.waiting.password",
        reasonParams: {},
        createdAt: T0,
        updatedAt: T0,
      });
      const [r1, r2] = await store.db
        .insert(schema.renewals)
        .values([waiting(w.certs.b1), waiting(w.certs.b2)])
        .returning({ id: schema.renewals.id });
      ids.renewalB1 = r1?.id ?? "";
      ids.renewalB2 = r2?.id ?? "";
    }, 120_000);

    afterAll(async () => {
      await store.close();
    });

    it("plans a certificate expiring in 59 days with a sealed password as automatic, signed by itself, due already", async () => {
      const plan = await (await as("companyAdmin")).plan({ companyId: w.company.id });
      const item = plan.find((i) => i.certificate.id === ids.expiring);
      expect(item).toMatchObject({
        route: "automatic",
        signing: "certificate",
        signerName: "Wygasa wkrótce",
        reason: null,
        renewal: null,
        successorId: null,
        branchName: "Oddział 1",
        companyName: "Firma",
        certificate: { environment: "demo", certificateType: "Authentication", scopeType: "branch" },
      });
      expect(item?.certificate.validTo).toBe(new Date(T0.getTime() + 59 * DAY).toISOString());
      // Sixty days ahead by default: due one day before the clock.
      expect(item?.dueAt).toBe(new Date(T0.getTime() - DAY).toISOString());
      // The soonest due first; the fixtures' certificates have no sealed password, so the default `reuse` blocks them.
      expect(plan[0]?.certificate.id).toBe(ids.expiring);
      expect(plan.find((i) => i.certificate.id === w.certs.company)?.reason).toEqual({ id: "renewal.blocked.passwordNotSealed", params: {} });
      expect(plan.find((i) => i.certificate.id === w.certs.b2)?.renewal).toMatchObject({ state: "awaiting_approval", attempts: 0, signatureRequestedAt: null });
      expect(plan.some((i) => i.certificate.id === w.certs.other)).toBe(false);
    });

    it("without a master key on the server nothing renews by itself", async () => {
      const plan = await (await as("companyAdmin", { clock: () => T0 })).plan({ companyId: w.company.id, environment: "demo" });
      expect(plan.map((i) => [i.certificate.id, i.route, i.reason?.id])).toEqual([[ids.expiring, "blocked", "renewal.blocked.noMasterKey"]]);
    });

    it("a branch admin sees only their branch's rows", async () => {
      const plan = await (await as("branchAdmin")).plan();
      const seen = plan.map((i) => i.certificate.id);
      expect(seen).toContain(ids.expiring);
      expect(seen).toContain(w.certs.b1);
      for (const hidden of [w.certs.b2, w.certs.o2, w.certs.other]) expect(seen).not.toContain(hidden);
      expect(plan.every((i) => i.certificate.branchId === null || i.certificate.branchId === w.b1.id)).toBe(true);
      // Asking for the other branch by id shows nothing rather than an error that would confirm it exists.
      expect(await (await as("branchAdmin")).plan({ branchId: w.b2.id })).toEqual([]);
    });

    it("a branch admin cannot set a company policy, touch another branch's, or approve another branch's renewal", async () => {
      const branchAdmin = await as("branchAdmin");
      expect(await trpcCode(branchAdmin.setPolicy({ companyId: w.company.id, patch: { renewBeforeDays: 30 } }))).toBe("FORBIDDEN");
      expect(await trpcCode(branchAdmin.setPolicy({ companyId: w.company.id, branchId: w.b2.id, patch: { renewBeforeDays: 30 } }))).toBe("NOT_FOUND");
      expect(await trpcCode(branchAdmin.policy({ companyId: w.company.id, branchId: w.b2.id }))).toBe("NOT_FOUND");
      expect(await trpcCode(branchAdmin.approve({ renewalId: ids.renewalB2, keyPassword: "Nowe-haslo-klucza-2026!" }))).toBe("NOT_FOUND");
      expect(await trpcCode((await as("auditor")).approve({ renewalId: ids.renewalB1, keyPassword: "Nowe-haslo-klucza-2026!" }))).toBe("FORBIDDEN");
      expect(await trpcCode((await as("auditor")).setPolicy({ companyId: w.company.id, patch: { approval: "ask_first" } }))).toBe("FORBIDDEN");
      // Its own branch it may change.
      expect(await trpcCode(branchAdmin.setPolicy({ companyId: w.company.id, branchId: w.b1.id, patch: { keyAlgorithm: "RSA-2048" } }))).toBe("OK");
    });

    it("setPolicy then policy shows each value with its source; null clears a value back to the inherited one", async () => {
      const admin = await as("companyAdmin");
      await admin.setPolicy({ companyId: w.company.id, patch: { renewBeforeDays: 90, password: "generate" } });
      const set = await admin.setPolicy({ companyId: w.company.id, branchId: w.b1.id, patch: { approval: "ask_first" } });
      expect(set.scopeKey).toBe(`branch:${w.b1.id}`);
      expect(set.own).toEqual({ approval: "ask_first", keyAlgorithm: "RSA-2048" });
      const view = await admin.policy({ companyId: w.company.id, branchId: w.b1.id });
      expect(view.effective.values).toMatchObject({
        renewBeforeDays: 90,
        password: "generate",
        approval: "ask_first",
        keyAlgorithm: "RSA-2048",
        signing: "certificate",
      });
      expect(view.effective.sources).toMatchObject({
        renewBeforeDays: "company",
        password: "company",
        approval: "branch",
        keyAlgorithm: "branch",
        signing: "default",
      });
      const cleared = await admin.setPolicy({ companyId: w.company.id, branchId: w.b1.id, patch: { approval: null } });
      expect(cleared.own).toEqual({ keyAlgorithm: "RSA-2048" });
      expect(cleared.effective.values.approval).toBe("automatic");
      expect(cleared.effective.sources.approval).toBe("default");
      // The plan follows: a generated password no longer needs the unsealed one, but without it the certificate cannot
      // sign its own login either, and no workstation is set for a person.
      const item = (await admin.plan({ branchId: w.b1.id })).find((i) => i.certificate.id === w.certs.b1);
      expect(item).toMatchObject({ route: "blocked", signing: "person", reason: { id: "renewal.blocked.noWorkstation" } });
    });

    it("a bad value is refused with BAD_REQUEST naming the rule", async () => {
      const admin = await as("companyAdmin");
      expect(await violationsOf(admin.setPolicy({ companyId: w.company.id, patch: { renewBeforeDays: 400 } }))).toEqual({
        code: "BAD_REQUEST",
        rules: ["policy.renewBeforeDays:policy.days.range"],
      });
      expect(await violationsOf(admin.setPolicy({ companyId: w.company.id, patch: { personLeadDays: 0 } }))).toEqual({
        code: "BAD_REQUEST",
        rules: ["policy.personLeadDays:policy.days.range"],
      });
      const enumRefused = await violationsOf(admin.setPolicy({ companyId: w.company.id, patch: { approval: "sometimes" as never } }));
      expect(enumRefused.code).toBe("BAD_REQUEST");
      expect(enumRefused.rules).toEqual(["patch.approval:input.invalid_value"]);
      // A workstation that does not exist (a fixed id no fixture can draw).
      const other = await violationsOf(admin.setPolicy({ companyId: w.company.id, patch: { workstationId: "00000000-0000-4000-8000-000000000000" } }));
      expect(other.code).not.toBe("OK");
      // Nothing was stored by the refused calls.
      expect((await admin.policy({ companyId: w.company.id })).own).toEqual({ renewBeforeDays: 90, password: "generate" });
    });

    it("approving a renewal that asks for the password: refused without one or with a weak one, then taken", async () => {
      const admin = await as("companyAdmin");
      expect(await trpcCode(admin.approve({ renewalId: ids.renewalB1 }))).toBe("BAD_REQUEST");
      expect(await trpcCode(admin.approve({ renewalId: ids.renewalB1, keyPassword: "krotkie" }))).toBe("BAD_REQUEST");
      expect(await trpcCode(admin.approve({ renewalId: "not-a-uuid" }))).toBe("NOT_FOUND");
      expect(await admin.approve({ renewalId: ids.renewalB1, keyPassword: "Nowe-haslo-klucza-2026!" })).toEqual({
        renewalId: ids.renewalB1,
        certificateId: w.certs.b1,
      });
      expect(await trpcCode(admin.approve({ renewalId: ids.renewalB1, keyPassword: "Nowe-haslo-klucza-2026!" }))).toBe("CONFLICT");
      const item = (await admin.plan({ branchId: w.b1.id })).find((i) => i.certificate.id === w.certs.b1);
      expect(item?.renewal?.state).toBe("due");
    });
  });
}
