/**
 * `@ksef-certs/testing/signer`: test people (PESEL, NIP, keys and certificates) and the hand-off files they sign:
 * challenges, pending, signed and unsigned AuthTokenRequest files (implemented in `@ksef-certs/ksef/testing`).
 */
export {
  JAN_PESEL,
  NIP,
  OTHER_PESEL,
  makeJanAndEwa,
  makePerson,
  newChallenge,
  pendingFor,
  signedFor,
  unsignedFor,
  type Person,
} from "@ksef-certs/ksef/testing";
