export {
  type CompileResult,
  compileMatch,
  describeMiss,
  type FilterIssue,
  type FilterPath,
  type Matcher,
  type Miss,
} from "./filter";
