/* placeholder: being written */
typedef int cmek_placeholder_transport_mock;
