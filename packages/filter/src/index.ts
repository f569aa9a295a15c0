export {
  type CompileResult,
  compileMatch,
  describeMiss,
  type FilterIssue,
  type FilterPath,
  jsonEquals,
  type Matcher,
  type Miss,
  OPERATORS,
} from "./filter";
