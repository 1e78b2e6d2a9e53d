"use client";

import type { ActionState } from "@/app/(app)/[org]/actions";
import { ActionForm, SubmitButton } from "./action-form";

type Action = (prev: ActionState, fd: FormData) => Promise<ActionState>;

/** Turn a thing on or off (`enabled=true|false`) and delete it: the controls of every integration page. */
export function ToggleAndDelete({
  org,
  id,
  on,
  toggle,
  remove,
  labels = ["Disable", "Enable"],
  confirmDelete,
  afterDelete,
}: {
  org: string;
  id: string;
  on: boolean;
  toggle: Action;
  remove: Action;
  /** What the toggle says when the thing is on, and when it is off. */
  labels?: [string, string];
  confirmDelete: string;
  afterDelete: string;
}) {
  return (
    <>
      <ActionForm action={toggle} className="inline">
        <input type="hidden" name="org" value={org} />
        <input type="hidden" name="id" value={id} />
        <input type="hidden" name="enabled" value={on ? "false" : "true"} />
        <SubmitButton variant="secondary">{on ? labels[0] : labels[1]}</SubmitButton>
      </ActionForm>
      <ActionForm action={remove} className="inline" confirm={confirmDelete} redirectTo={afterDelete}>
        <input type="hidden" name="org" value={org} />
        <input type="hidden" name="id" value={id} />
        <SubmitButton variant="danger">Delete</SubmitButton>
      </ActionForm>
    </>
  );
}
