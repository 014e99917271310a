/**
 * `@ksef-certs/ksef-simulator/openapi`: validation of KSeF request and response bodies against the
 * official OpenAPI document (`spec/open-api.json`, OpenAPI 3.0.4, API 2.6.0), for the simulator and
 * for client tests that want to check what they send and receive.
 */
export {
  OpenApiValidator,
  defaultSpecPath,
  loadOpenApiDocument,
  openApiValidator,
  type OpenApiDocument,
  type OpenApiOperation,
  type OpenApiViolation,
} from "./validator.js";
