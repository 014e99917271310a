/**
 * The Polish twin of an English catalogue section: exactly the same keys, plus the `_few` and `_many` plural
 * forms Polish needs beside every English `_other` (Polish uses one/few/many/other, English one/other).
 */
export type PolishSection<E> = { readonly [K in keyof E]: string } & {
  readonly [K in keyof E as K extends `${infer B}_other` ? `${B}_few` | `${B}_many` : never]: string;
};
