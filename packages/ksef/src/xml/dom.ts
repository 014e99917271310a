/**
 * Wiring of the XML signature stack: xadesjs and xmldsigjs run on WebCrypto (`globalThis.crypto`,
 * Node ≥ 19) and need a DOM and XPath, which Node lacks; @xmldom/xmldom and xpath supply them
 * (xmldsigjs `setNodeDependencies`). Done once per process, on first use.
 */
import { DOMImplementation, DOMParser, XMLSerializer } from "@xmldom/xmldom";
import * as xadesjs from "xadesjs";
import xpath from "xpath";

let wired = false;

/**
 * Returns the xadesjs module with its crypto engine and DOM dependencies set.
 * @returns the `xadesjs` namespace, ready to sign and verify
 */
export function xades(): typeof xadesjs {
  if (!wired) {
    xadesjs.Application.setEngine("NodeJS", globalThis.crypto);
    xadesjs.setNodeDependencies({ DOMParser, XMLSerializer, DOMImplementation, xpath });
    wired = true;
  }
  return xadesjs;
}
