"use server";

import { revalidatePath } from "next/cache";
import { currentUserId } from "@/lib/auth/session";
import { formDataToObject, type ActionResult } from "@/lib/auth/action";
import { ORG_ACTIONS } from "@/lib/actions";

/**
 * The app's server actions: each one hands the form to its definition in lib/actions, which
 * checks membership, role and input. Nothing else happens here.
 */
type Name = keyof typeof ORG_ACTIONS;

async function run<N extends Name>(name: N, fd: FormData, options: { revalidate?: boolean } = {}): Promise<ActionResult<unknown>> {
  const result = await ORG_ACTIONS[name].invoke(await currentUserId(), formDataToObject(fd));
  if (result.ok && options.revalidate !== false) revalidatePath(`/${String(fd.get("org"))}`, "layout");
  return result;
}

export type ActionState = ActionResult<unknown> | null;

export const createRecord = async (_p: ActionState, fd: FormData) => run("createRecordAction", fd);
export const updateRecord = async (_p: ActionState, fd: FormData) => run("updateRecordAction", fd);
export const deleteRecord = async (_p: ActionState, fd: FormData) => run("deleteRecordAction", fd);
export const inviteMember = async (_p: ActionState, fd: FormData) => run("inviteMemberAction", fd);
export const resendInvitation = async (_p: ActionState, fd: FormData) => run("resendInvitationAction", fd);
export const revokeInvitation = async (_p: ActionState, fd: FormData) => run("revokeInvitationAction", fd);
export const changeMemberRole = async (_p: ActionState, fd: FormData) => run("changeMemberRoleAction", fd);
export const removeMember = async (_p: ActionState, fd: FormData) => run("removeMemberAction", fd);
export const renameOrganization = async (_p: ActionState, fd: FormData) => run("renameOrganizationAction", fd);
export const markNotificationsRead = async (_p: ActionState, fd: FormData) => run("markNotificationsReadAction", fd);
export const createApiKey = async (_p: ActionState, fd: FormData) => run("createApiKeyAction", fd);
// Not revalidated: the rotated key's row would re-render without the form showing the new key.
export const rotateApiKey = async (_p: ActionState, fd: FormData) => run("rotateApiKeyAction", fd, { revalidate: false });
export const revokeApiKey = async (_p: ActionState, fd: FormData) => run("revokeApiKeyAction", fd);
export const updateLeadSettings = async (_p: ActionState, fd: FormData) => run("updateLeadSettingsAction", fd);
export const createLeadChannel = async (_p: ActionState, fd: FormData) => run("createLeadChannelAction", fd);
export const createWebhook = async (_p: ActionState, fd: FormData) => run("createWebhookAction", fd);
export const updateWebhook = async (_p: ActionState, fd: FormData) => run("updateWebhookAction", fd);
export const updateWebhookDelivery = async (_p: ActionState, fd: FormData) => run("updateWebhookDeliveryAction", fd);
export const updateWebhookFilter = async (_p: ActionState, fd: FormData) => run("updateWebhookFilterAction", fd);
export const previewWebhookFilter = async (_p: ActionState, fd: FormData) => run("previewWebhookFilterAction", fd, { revalidate: false });
export const rotateWebhookSecret = async (_p: ActionState, fd: FormData) => run("rotateWebhookSecretAction", fd);
export const revealWebhookSecret = async (_p: ActionState, fd: FormData) => run("revealWebhookSecretAction", fd);
export const deleteWebhook = async (_p: ActionState, fd: FormData) => run("deleteWebhookAction", fd);
export const sendTestWebhook = async (_p: ActionState, fd: FormData) => run("sendTestWebhookAction", fd);
export const redeliverWebhook = async (_p: ActionState, fd: FormData) => run("redeliverAction", fd);
export const redeliverFailedWebhooks = async (_p: ActionState, fd: FormData) => run("redeliverFailedAction", fd);
export const previewImport = async (_p: ActionState, fd: FormData) => run("previewImportAction", fd, { revalidate: false });
export const startImportDraft = async (_p: ActionState, fd: FormData) => run("startImportAction", fd, { revalidate: false });
export const importStatus = async (_p: ActionState, fd: FormData) => run("importStatusAction", fd, { revalidate: false });
export const dryRunImport = async (_p: ActionState, fd: FormData) => run("dryRunImportAction", fd, { revalidate: false });
export const undoImport = async (_p: ActionState, fd: FormData) => run("undoImportAction", fd, { revalidate: false });
export const createSource = async (_p: ActionState, fd: FormData) => run("createSourceAction", fd);
export const updateSource = async (_p: ActionState, fd: FormData) => run("updateSourceAction", fd);
export const rotateSourceSecret = async (_p: ActionState, fd: FormData) => run("rotateSourceSecretAction", fd, { revalidate: false });
export const revealSourceSecret = async (_p: ActionState, fd: FormData) => run("revealSourceSecretAction", fd, { revalidate: false });
export const deleteSource = async (_p: ActionState, fd: FormData) => run("deleteSourceAction", fd);
export const reprocessInbound = async (_p: ActionState, fd: FormData) => run("reprocessInboundAction", fd);
export const previewMapping = async (_p: ActionState, fd: FormData) => run("previewMappingAction", fd, { revalidate: false });
export const createConnector = async (_p: ActionState, fd: FormData) => run("createConnectorAction", fd);
export const updateConnector = async (_p: ActionState, fd: FormData) => run("updateConnectorAction", fd);
export const runConnector = async (_p: ActionState, fd: FormData) => run("runConnectorAction", fd);
export const deleteConnector = async (_p: ActionState, fd: FormData) => run("deleteConnectorAction", fd);
export const updateAuditRetention = async (_p: ActionState, fd: FormData) => run("updateAuditRetentionAction", fd);
export const createWorkflow = async (_p: ActionState, fd: FormData) => run("createWorkflowAction", fd);
export const updateWorkflow = async (_p: ActionState, fd: FormData) => run("updateWorkflowAction", fd);
export const setWorkflowEnabled = async (_p: ActionState, fd: FormData) => run("setWorkflowEnabledAction", fd);
export const deleteWorkflow = async (_p: ActionState, fd: FormData) => run("deleteWorkflowAction", fd);
export const testWorkflow = async (_p: ActionState, fd: FormData) => run("testWorkflowAction", fd, { revalidate: false });
