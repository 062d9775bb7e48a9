// Names, colours and styles shared by the map layers and panels.
// Level and status keys are the ones the API uses; labels are what users read.

/** Grid levels from coarsest to finest; dedicated grids overlap the others by design. */
export const LEVELS = [
  { key: 'street', label: '街道', short: '街道' },
  { key: 'second', label: '二级网格(社区)', short: '社区' },
  { key: 'third', label: '三级网格', short: '三级' },
  { key: 'micro', label: '微网格', short: '微网格' },
  { key: 'dedicated', label: '专属网格', short: '专属' },
];

export const LEVEL_LABELS = Object.fromEntries(LEVELS.map((l) => [l.key, l.label]));

/** Path styles per level. The street is outline only so that clicks reach the grids inside it. */
export const LEVEL_STYLES = {
  street: { color: '#37474f', weight: 4, opacity: 0.9, fill: false },
  second: { color: '#1565c0', weight: 3, opacity: 0.9, fillColor: '#1565c0', fillOpacity: 0.04 },
  third: { color: '#2e7d32', weight: 1.5, opacity: 0.9, fillColor: '#81c784', fillOpacity: 0.08 },
  micro: { color: '#8d6e63', weight: 1, opacity: 0.8, fillColor: '#bcaaa4', fillOpacity: 0.05 },
  // Dedicated grids sit on top of the comprehensive grids: dashed and tinted so both stay readable.
  dedicated: {
    color: '#c2185b', weight: 2.5, opacity: 1, dashArray: '6 4',
    fillColor: '#f06292', fillOpacity: 0.18,
  },
};

export const HIGHLIGHT_STYLE = { color: '#ff6f00', weight: 5, opacity: 1 };

/** Case workflow states (GB/T 30428 steps, see GET /api/workflow) with their map colours. */
export const STATUSES = [
  { key: 'reported', label: '已上报', color: '#f9a825' },
  { key: 'returned', label: '已退回补充', color: '#fbc02d' },
  { key: 'screened', label: '社区已汇总', color: '#ffa000' },
  { key: 'filed', label: '已立案', color: '#ef6c00' },
  { key: 'dispatched', label: '已派遣', color: '#d32f2f' },
  { key: 'handling', label: '处置中', color: '#7b1fa2' },
  { key: 'reported_back', label: '已反馈待核查', color: '#00838f' },
  { key: 'verified', label: '已核查待结案', color: '#0277bd' },
  { key: 'parked', label: '挂账', color: '#8d6e63' },
  { key: 'closed', label: '已结案', color: '#2e7d32' },
  { key: 'evaluated', label: '已评价', color: '#1b5e20' },
  { key: 'voided', label: '已作废', color: '#455a64' },
  { key: 'merged', label: '已合并', color: '#78909c' },
];

/** Deadline lights of the running step: green < 80 % of the limit used, yellow, red overdue. */
export const LIGHTS = {
  green: { label: '正常', color: '#2e7d32' },
  yellow: { label: '临期', color: '#f9a825' },
  red: { label: '超期', color: '#c62828' },
};

export const UNKNOWN_STATUS = { key: 'unknown', label: '其他状态', color: '#9e9e9e' };

const STATUS_BY_KEY = Object.fromEntries(STATUSES.map((s) => [s.key, s]));

/** The status entry for a key; anything the page does not know is drawn grey. */
export function statusInfo(key) {
  return STATUS_BY_KEY[key] || { ...UNKNOWN_STATUS, label: key ? `${key}` : UNKNOWN_STATUS.label };
}

/** Groups unknown statuses together so the filter has one switch for them. */
export function statusGroup(key) {
  return STATUS_BY_KEY[key] ? key : UNKNOWN_STATUS.key;
}

/** Where a report came from; unknown sources are shown as sent. */
export const SOURCE_LABELS = {
  grid_patrol: '网格员巡查',
  resident_wechat: '居民微信上报',
  hotline_12345: '12345 热线',
  property_company: '物业公司',
  camera_sensor: '视频/感知设备',
  enterprise_service: '企业服务',
  api: '接口/网页上报',
};

export const CRS_OPTIONS = [
  { key: 'wgs84', label: 'WGS84（GPS/天地图）' },
  { key: 'gcj02', label: 'GCJ-02（高德/腾讯/微信）' },
  { key: 'bd09', label: 'BD-09（百度）' },
];

/** Account roles (backend auth/actor.py) as users read them. */
export const ROLE_LABELS = {
  street_admin: '街道管理员',
  street_dispatcher: '街道派单员',
  community_staff: '社区工作人员',
  grid_leader: '网格长',
  grid_worker: '网格员',
  department_handler: '部门处置人员',
  property_staff: '物业公司人员',
  gis_editor: 'GIS编辑',
  auditor: '审计(只读)',
  resident: '居民',
};

/** Kinds of places in the registry (GET /api/places?kind=) as users read them. */
export const PLACE_KINDS = {
  building: '楼栋',
  courtyard: '小区/院落',
  merchant: '商户',
  enterprise: '企业',
  site: '项目工地',
  resident_unit: '驻街单位',
};

/**
 * Courtyard states on the map (GET /api/red-property/map's map_status, with the server's own
 * label and colour when it sends them): 红色物业, a claim waiting, 无主管, 物业管理.
 */
export const COURTYARD_STATUSES = [
  { key: 'red_property', label: '红色物业', color: '#c0392b' },
  { key: 'claim_pending', label: '认领待审批', color: '#e67e22' },
  { key: 'unmanaged', label: '无主管', color: '#7f8c8d' },
  { key: 'property_managed', label: '物业管理', color: '#2e86c1' },
];

export const COURTYARD_STATUS_BY_KEY = Object.fromEntries(COURTYARD_STATUSES.map((s) => [s.key, s]));

/** Red-property claim states (courtyard_claims.status). */
export const CLAIM_STATUS_LABELS = {
  pending: '待审批',
  approved: '已认领',
  rejected: '未通过',
  ended: '已退出',
};

/** Grid staff duties and responsibility-item levels (GET /api/registry/stats). */
export const STAFF_DUTY_LABELS = {
  grid_leader: '网格长',
  full_time_worker: '专职网格员',
  part_time_worker: '兼职网格员',
  sunk_staff: '下沉人员',
  police: '社区民警',
  instructor: '网格指导员',
};

export const ITEM_LEVEL_LABELS = { grid: '网格', community: '社区', street: '街道', department: '部门' };
