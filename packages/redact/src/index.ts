export {
  displayUrl,
  isSignatureHeader,
  REDACTED,
  Redactor,
  shortenSignature,
} from "./redact";
