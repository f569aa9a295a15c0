export {
  displayUrl,
  isCredentialHeader,
  isSignatureHeader,
  REDACTED,
  Redactor,
  shortenSignature,
} from "./redact";
