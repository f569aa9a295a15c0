export { type Alert, type AlertRequest, alertRequest, destinationLabel } from "./message";
export {
  type AlertRaiser,
  type AlertRaiserOptions,
  createAlertRaiser,
  destinationKey,
  FLUSH_JOB,
  type FlushJob,
  SEND_JOB,
  type SendJob,
} from "./raise";
