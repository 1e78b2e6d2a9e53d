import "server-only";
import * as records from "./records";
import * as members from "./members";
import * as notifications from "./notifications";
import * as apiKeys from "./api-keys";
import * as leadCapture from "./lead-capture";
import * as webhooks from "./webhooks";
import * as importActions from "./imports";
import * as dataIn from "./data-in";
import * as audit from "./audit";
import * as workflows from "./workflows";

/** Every org-scoped server action, so the tenancy suite can run against each one. */
export const ORG_ACTIONS = {
  ...records,
  ...members,
  ...notifications,
  ...apiKeys,
  ...leadCapture,
  ...webhooks,
  ...importActions,
  ...dataIn,
  ...audit,
  ...workflows,
};
