"""Emergencies (突发事件): a water or power cut, a leak, a lift entrapment, a fire alarm, a typhoon, a
public-health notice; broadcast at once to the homes and staff it touches, and each household's
answer (我家安全 / 需要帮助)."""
