export { default } from "@ksef-certs/eslint-config";
