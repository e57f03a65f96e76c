// GordonBus
