package differential

import "k8s.io/apimachinery/pkg/runtime"

func runtimeRaw(j []byte) runtime.RawExtension { return runtime.RawExtension{Raw: j} }
