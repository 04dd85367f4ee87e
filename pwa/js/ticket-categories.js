// The categories of a resident's request (报事报修): codes in the order the app offers them, their
// names and a resident's hint for each, Simplified Chinese first. Generated from the server's one
// list (server/tickets/categories.py) by `flask --app server pwa-categories`: edit that list, not
// this file (tests/server/test_pwa.py fails when the two differ).

export const CATEGORIES = ["repair", "complaint", "cleaning", "water", "custody", "other"];

export const NAMES = {
  "zh-CN": {
    "repair": "报修",
    "complaint": "投诉",
    "cleaning": "保洁",
    "water": "桶装水",
    "custody": "房屋托管",
    "other": "其他"
  },
  "en": {
    "repair": "Repair",
    "complaint": "Complaint",
    "cleaning": "Cleaning",
    "water": "Bottled water",
    "custody": "Property custody",
    "other": "Other"
  }
};

export const HINTS = {
  "zh-CN": {
    "repair": "水电、门窗、家电坏了",
    "complaint": "噪音、卫生、邻里问题",
    "cleaning": "家里或楼道需要打扫",
    "water": "送桶装水上门",
    "custody": "空房子请物业照看",
    "other": "其他事情"
  },
  "en": {
    "repair": "Water, power, doors, appliances",
    "complaint": "Noise, hygiene, neighbours",
    "cleaning": "Home or stairwell needs cleaning",
    "water": "Bottled water delivered",
    "custody": "Look after an empty home",
    "other": "Anything else"
  }
};
