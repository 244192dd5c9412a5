from django.urls import path

from taskapi.accounts import views

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="authRegister"),
    path("login/", views.LoginView.as_view(), name="authLogin"),
    path("refresh/", views.RefreshView.as_view(), name="authRefresh"),
    path("logout/", views.LogoutView.as_view(), name="authLogout"),
    path("me/", views.MeView.as_view(), name="authMe"),
    path("password/", views.ChangePasswordView.as_view(), name="authChangePassword"),
]
# Same route as authMe: DELETE on it has its own operationId.
urlpatterns.append(path("me/", views.MeView.as_view(), name="authDeleteAccount"))
