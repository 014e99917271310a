/**
 * Walking a parsed tree without recursion. `parseXmlSafely` bounds the depth of what it returns, but a walk
 * that keeps no call frame per level stays safe whatever tree it is handed (one built in code, a future parser).
 */

const ELEMENT = 1;

/**
 * Every element of the subtree rooted at `root`, in document order (`root` first), found by following
 * `firstChild`, `nextSibling` and `parentNode` (no recursion, no stack: time and memory linear in the nodes).
 * @param root where to start (normally a `documentElement`)
 * @returns the elements, `root` included
 */
export function elementsInDocumentOrder(root: Element): Element[] {
  const out: Element[] = [];
  let node: Node | null = root;
  while (node !== null) {
    if (node.nodeType === ELEMENT) out.push(node as Element);
    let next: Node | null = node.nodeType === ELEMENT ? node.firstChild : null;
    if (next === null) {
      let up: Node | null = node;
      while (up !== null && up !== root && up.nextSibling === null) up = up.parentNode;
      next = up === null || up === root ? null : up.nextSibling;
    }
    node = next;
  }
  return out;
}
