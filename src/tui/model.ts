// The dashboard's model is defined beside the Mayor, which implements it (layers import downward only).
export * from '../mayor/dashboard-model.js';
