// The terminal dashboard (`crosstown mayor attach`): an Ink view over a DashboardSource.
export { Dashboard, type DashboardProps } from './dashboard.js';
export {
  DEMO_DEFAULT_STATE,
  DemoDashboardSource,
  type DemoOptions,
  type PostJobInput,
} from './demo-source.js';
export { formatM2M as formatM2MDisplay, sanitize } from './format.js';
export * from './model.js';
export { type DashboardHandle, type RenderDashboardOptions, renderDashboard } from './render.js';
