export {
  type CompiledTransform,
  type CompileTransformResult,
  compileTransform,
  TransformError,
} from "./transform";
