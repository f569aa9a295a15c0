export {
  displayUrl,
  isSignatureHeader,
  REDACTED,
  Redactor,
  shortenSignature,
  withoutPassword,
} from "./redact";
