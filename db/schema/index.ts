export * from "./identity";
export * from "./records";
export * from "./activity";
export * from "./webhooks";
export * from "./api-keys";
export * from "./idempotency";
export * from "./data-in";
export * from "./workflows";
