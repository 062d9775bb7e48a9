"""Red property (红色物业): property companies claim unmanaged courtyards, the street approves."""
