export { type Alert, type AlertRequest, alertRequest, alertText, destinationLabel } from "./message";
export {
  ALERT_WINDOW_MS,
  type AlertRaiser,
  type AlertRaiserOptions,
  createAlertRaiser,
  destinationKey,
  FLUSH_JOB,
  type FlushJob,
  SEND_JOB,
  type SendJob,
} from "./raise";
