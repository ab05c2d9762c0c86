export * from './ses-metrics';
export * from './sending-alarms';
export * from './sending-dashboard';
