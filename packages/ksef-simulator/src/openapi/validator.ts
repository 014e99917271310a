/**
 * Validation of KSeF request and response bodies against the official OpenAPI 3.0.4 document
 * (`spec/open-api.json`), with ajv 8.
 *
 * OpenAPI 3.0 schemas are "JSON Schema with extensions". What has to be translated for ajv:
 * - `nullable: true` (OpenAPI 3.0.4 §4.8.24.1) is not JSON Schema; it becomes `type: [t, "null"]`
 *   (plus `null` in an `enum`), or `anyOf: [schema, {type: "null"}]` where there is no `type`
 *   (the spec writes `{allOf: [{$ref}], nullable: true}` often);
 * - `format: int32/int64/byte/date-time/date/double/uri` come from ajv-formats;
 * - `example`/`examples` are dropped (examples contain arbitrary JSON that ajv would walk);
 * - patterns are compiled without the `u` flag: the spec's `certificateName` pattern escapes a space
 *   (`\ `), which is a syntax error in Unicode mode but valid in the .NET/ECMAScript legacy syntax KSeF uses.
 * The whole document is registered once under the id `openapi.json`, and each operation's schema is
 * compiled lazily as a `$ref` into it, so `#/components/schemas/...` references resolve as written.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { KsefCertsError } from "@ksef-certs/ksef/errors";
import { msg } from "@ksef-certs/ksef/messages";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The OpenAPI document as parsed JSON (only the parts read here are typed). */
export interface OpenApiDocument {
  readonly openapi: string;
  readonly info?: { readonly version?: string };
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, unknown>> };
}

/** One operation of the document (the fields the simulator reads). */
export interface OpenApiOperation {
  readonly operationId?: string;
  readonly summary?: string;
  readonly parameters?: readonly { readonly name: string; readonly in: string; readonly required?: boolean; readonly schema?: unknown }[];
  readonly requestBody?: { readonly required?: boolean; readonly content?: Readonly<Record<string, { readonly schema?: unknown }>> };
  readonly responses?: Readonly<Record<string, { readonly content?: Readonly<Record<string, { readonly schema?: unknown }>> }>>;
  /** KSeF's published rate limits of the operation, requests per window (SPEC `x-rate-limits`). */
  readonly "x-rate-limits"?: { readonly perSecond?: number; readonly perMinute?: number; readonly perHour?: number };
}

/** One schema violation, flattened from ajv's error objects. */
export interface OpenApiViolation {
  /** JSON pointer into the body (`/certificateName`), empty for the root or for non-body problems. */
  readonly path: string;
  /** What is wrong, e.g. `must match pattern "^[0-9A-F]{16}$"`, `status 418 is not documented`. */
  readonly message: string;
}

const HTTP_METHODS = ["get", "post", "put", "delete", "patch"] as const;
const DOCUMENT_ID = "openapi.json";
/** `spec/open-api.json` is 674 kB; anything far larger is not the KSeF document. */
const MAX_SPEC_BYTES = 16 * 1024 * 1024;

/**
 * Where `spec/open-api.json` lives when this module runs from `src/openapi/` (vitest, tsx) or from
 * `dist/openapi/` (built package): both sit four directories below the repository root.
 */
export function defaultSpecPath(): string {
  return fileURLToPath(new URL("../../../../spec/open-api.json", import.meta.url));
}

/**
 * Reads and parses the OpenAPI document.
 * @param specPath file path; default {@link defaultSpecPath}
 * @throws {KsefCertsError} `IO` when the file cannot be read; `TOO_LARGE` over 16 MiB; `MALFORMED` when it
 *   is not JSON or not an OpenAPI 3 document
 */
export function loadOpenApiDocument(specPath: string = defaultSpecPath()): OpenApiDocument {
  let text: Buffer;
  try {
    text = readFileSync(specPath);
  } catch (cause) {
    throw new KsefCertsError("IO", msg("simulator.openapi.unreadable", { path: specPath }), {
      hint: msg("simulator.openapi.unreadable.hint"),
      cause,
    });
  }
  if (text.byteLength > MAX_SPEC_BYTES)
    throw new KsefCertsError("TOO_LARGE", msg("simulator.openapi.tooLarge", { path: specPath }), { details: { limitBytes: MAX_SPEC_BYTES } });
  let doc: Partial<OpenApiDocument>;
  try {
    doc = JSON.parse(text.toString("utf8")) as Partial<OpenApiDocument>;
  } catch (cause) {
    throw new KsefCertsError("MALFORMED", msg("simulator.openapi.notJson", { path: specPath }), { cause });
  }
  if (typeof doc.openapi !== "string" || !doc.openapi.startsWith("3.") || typeof doc.paths !== "object") {
    throw new KsefCertsError("MALFORMED", msg("simulator.openapi.notOpenApi3", { path: specPath }));
  }
  return doc as OpenApiDocument;
}

/** OpenAPI 3.0 → JSON Schema draft-07 as ajv reads it (see the module comment). */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === "example" || key === "examples") continue;
    out[key] = toJsonSchema(value);
  }
  if (out["nullable"] !== true) return out;
  delete out["nullable"];
  if (typeof out["type"] === "string") {
    out["type"] = [out["type"], "null"];
    if (Array.isArray(out["enum"])) out["enum"] = [...(out["enum"] as unknown[]), null];
    return out;
  }
  return { anyOf: [out, { type: "null" }] };
}

/** JSON pointer escaping (RFC 6901 §3). */
function pointer(...segments: string[]): string {
  return segments.map((s) => s.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
}

function flatten(errors: readonly ErrorObject[] | null | undefined): OpenApiViolation[] {
  return (errors ?? []).map((e) => {
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
    return { path: e.instancePath, message: `${e.message ?? "is invalid"}${allowed === undefined ? "" : ` (${allowed.join(", ")})`}` };
  });
}

/** A media type's base, lowercase (`application/json; charset=utf-8` → `application/json`). */
function mediaType(contentType: string | undefined | null): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/**
 * Validates KSeF request and response bodies against the OpenAPI document. Compiled validators are
 * cached per operation, status and media type. Not thread-bound; one instance can serve many simulators.
 */
export class OpenApiValidator {
  /** The document as loaded (before translation). */
  readonly document: OpenApiDocument;
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  /**
   * @param document a parsed OpenAPI 3.0 document (see {@link loadOpenApiDocument})
   */
  constructor(document: OpenApiDocument) {
    this.document = document;
    this.ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false, validateSchema: false });
    // ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object.
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;
    addFormats(this.ajv);
    this.ajv.addSchema(toJsonSchema(document) as object, DOCUMENT_ID);
  }

  /**
   * The operation object for a method and a path template as written in the spec (`/auth/{referenceNumber}`),
   * or undefined when the spec has no such operation.
   */
  operation(method: string, pathTemplate: string): OpenApiOperation | undefined {
    const m = method.toLowerCase();
    if (!(HTTP_METHODS as readonly string[]).includes(m)) return undefined;
    return this.document.paths[pathTemplate]?.[m] as OpenApiOperation | undefined;
  }

  /** Every (method, path template, operation) of the document. */
  operations(): { method: string; pathTemplate: string; operation: OpenApiOperation }[] {
    const result: { method: string; pathTemplate: string; operation: OpenApiOperation }[] = [];
    for (const [pathTemplate, item] of Object.entries(this.document.paths)) {
      for (const m of HTTP_METHODS) {
        const op = item[m] as OpenApiOperation | undefined;
        if (op !== undefined) result.push({ method: m.toUpperCase(), pathTemplate, operation: op });
      }
    }
    return result;
  }

  private compiled(ref: string): ValidateFunction {
    let fn = this.cache.get(ref);
    if (fn === undefined) {
      fn = this.ajv.compile({ $ref: `${DOCUMENT_ID}#${ref}` });
      this.cache.set(ref, fn);
    }
    return fn;
  }

  /**
   * Checks a JSON request body against the operation's `requestBody` (media type `application/json`).
   * A missing body is a violation when the spec marks the body `required` or its schema lists required
   * members; operations without a JSON body accept none.
   * @param method HTTP method, any case
   * @param pathTemplate the spec's path (`/certificates/enrollments`)
   * @param request `body`: the parsed JSON (undefined = no body)
   * @returns the violations, empty when the body conforms
   */
  validateRequest(method: string, pathTemplate: string, request: { readonly body?: unknown }): OpenApiViolation[] {
    const op = this.operation(method, pathTemplate);
    if (op === undefined) return [{ path: "", message: `${method.toUpperCase()} ${pathTemplate} is not an operation of the KSeF API` }];
    const content = op.requestBody?.content;
    const json = content?.["application/json"];
    if (request.body === undefined) {
      // The spec often leaves `requestBody.required` unset while the schema itself lists required members.
      const schemaRequired = (json?.schema as { required?: unknown } | undefined)?.required;
      const needed = op.requestBody?.required === true || (Array.isArray(schemaRequired) && schemaRequired.length > 0);
      return needed ? [{ path: "", message: "a request body is required" }] : [];
    }
    if (json?.schema === undefined) return content === undefined ? [{ path: "", message: "this operation takes no JSON body" }] : [];
    const m = method.toLowerCase();
    const fn = this.compiled(`/${pointer("paths", pathTemplate, m, "requestBody", "content", "application/json", "schema")}`);
    return fn(request.body) ? [] : flatten(fn.errors);
  }

  /**
   * Checks a response against the operation's documented responses: the status must be documented,
   * the media type must be one the status documents, and a JSON body must match its schema. A status
   * documented without content must have an empty body.
   * @param method HTTP method, any case
   * @param pathTemplate the spec's path
   * @param status HTTP status code
   * @param contentType the `Content-Type` header (parameters ignored), undefined/empty for no body
   * @param body the parsed JSON body, or undefined for an empty body
   * @returns the violations, empty when the response conforms
   */
  validateResponse(method: string, pathTemplate: string, status: number, contentType: string | undefined | null, body: unknown): OpenApiViolation[] {
    const op = this.operation(method, pathTemplate);
    if (op === undefined) return [{ path: "", message: `${method.toUpperCase()} ${pathTemplate} is not an operation of the KSeF API` }];
    const key = String(status);
    const response = op.responses?.[key] ?? op.responses?.["default"];
    if (response === undefined) return [{ path: "", message: `status ${key} is not documented for ${method.toUpperCase()} ${pathTemplate}` }];
    const type = mediaType(contentType);
    if (response.content === undefined) {
      return body === undefined ? [] : [{ path: "", message: `status ${key} is documented without a body, but one was sent (${type || "no content type"})` }];
    }
    const media = response.content[type];
    if (media === undefined) {
      return [{ path: "", message: `status ${key} does not document media type "${type}" (documented: ${Object.keys(response.content).join(", ")})` }];
    }
    if (media.schema === undefined) return [];
    const fn = this.compiled(
      `/${pointer("paths", pathTemplate, method.toLowerCase(), "responses", op.responses?.[key] === undefined ? "default" : key, "content", type, "schema")}`,
    );
    return fn(body) ? [] : flatten(fn.errors);
  }
}

let shared: OpenApiValidator | undefined;

/**
 * A validator for the repository's `spec/open-api.json`, built once per process and shared
 * (compiling the document takes a moment; every simulator instance in a test file reuses it).
 * @param specPath another document to use instead (not cached)
 * @throws {KsefCertsError} as {@link loadOpenApiDocument}
 */
export function openApiValidator(specPath?: string): OpenApiValidator {
  if (specPath !== undefined) return new OpenApiValidator(loadOpenApiDocument(specPath));
  shared ??= new OpenApiValidator(loadOpenApiDocument());
  return shared;
}
